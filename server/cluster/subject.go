package cluster

import (
	"errors"
	"strings"
)

// SubjectPrefix starts every room subject; a node subscribes to
// SubjectPrefix + ">".
const SubjectPrefix = "wsbench.room."

// ErrBadSubject is returned for a subject that RoomSubject did not make.
var ErrBadSubject = errors.New("cluster: not a room subject")

// subjectSafe reports whether b may stand for itself in a subject token.
// NATS reserves '.', '*', '>' and white space; '%' is the escape.
func subjectSafe(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("-_/~:@!$&'()+,;=", b) >= 0
}

const hexDigits = "0123456789ABCDEF"

// RoomSubject returns the NATS subject of room: SubjectPrefix followed by
// the room name with every byte outside [A-Za-z0-9-_/~:@!$&'()+,;=]
// written as %XX, so that the subject is one token whatever the room. The
// empty room becomes "%" (which no escaped name can be).
func RoomSubject(room string) string {
	var sb strings.Builder
	sb.Grow(len(SubjectPrefix) + len(room) + 8)
	sb.WriteString(SubjectPrefix)
	if room == "" {
		sb.WriteByte('%')
		return sb.String()
	}
	for i := 0; i < len(room); i++ {
		b := room[i]
		if subjectSafe(b) {
			sb.WriteByte(b)
			continue
		}
		sb.WriteByte('%')
		sb.WriteByte(hexDigits[b>>4])
		sb.WriteByte(hexDigits[b&15])
	}
	return sb.String()
}

// SubjectRoom reverses RoomSubject.
func SubjectRoom(subject string) (string, error) {
	tok, ok := strings.CutPrefix(subject, SubjectPrefix)
	if !ok || tok == "" {
		return "", ErrBadSubject
	}
	if tok == "%" {
		return "", nil
	}
	if strings.IndexByte(tok, '%') < 0 {
		for i := 0; i < len(tok); i++ {
			if !subjectSafe(tok[i]) {
				return "", ErrBadSubject
			}
		}
		return tok, nil
	}
	out := make([]byte, 0, len(tok))
	for i := 0; i < len(tok); i++ {
		b := tok[i]
		switch {
		case b == '%':
			if i+2 >= len(tok) {
				return "", ErrBadSubject
			}
			hi, lo := unhex(tok[i+1]), unhex(tok[i+2])
			if hi < 0 || lo < 0 {
				return "", ErrBadSubject
			}
			out = append(out, byte(hi<<4|lo))
			i += 2
		case subjectSafe(b):
			out = append(out, b)
		default:
			return "", ErrBadSubject
		}
	}
	return string(out), nil
}

// unhex returns the value of an upper-case hex digit, or -1.
func unhex(b byte) int {
	switch {
	case '0' <= b && b <= '9':
		return int(b - '0')
	case 'A' <= b && b <= 'F':
		return int(b-'A') + 10
	}
	return -1
}
