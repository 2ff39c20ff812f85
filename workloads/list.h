/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every workload, once. Adding a file to workloads/ means adding a line
 * here; a line without its file is a link error, not a runtime surprise.
 * X(c_identifier)
 */
X(stream)
X(numa_migrate)
X(selftest)
X(migrate)
X(selftests)
X(fault_back)
X(atomics)
X(pin_longterm)
X(stress)
X(concurrent)
X(fork_cow)
X(teardown)
X(engine_cost)
X(gpu_migrate)
X(gpu_atomics)
