package bench

// Pinned prefixes argv with taskset (cpu ≥ 0) and nice (nice ≠ 0), the way
// every bench process is started, so that other programs that split the
// two CPUs the same way (the abuse program: server on one, attacker and
// probe on the other) start theirs identically.
func Pinned(argv []string, cpu, nice int) []string { return pinned(argv, cpu, nice) }
