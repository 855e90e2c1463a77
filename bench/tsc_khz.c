// SPDX-License-Identifier: GPL-2.0
/*
 * Host helper of scripts/bench.sh: prints the host's TSC frequency in kHz, measured against
 * CLOCK_MONOTONIC_RAW over 200 ms.
 *
 * Under TCG the guest's TSC is the host's, but the guest kernel cannot calibrate it (no PIT
 * that keeps time, no HPET or ACPI PM timer without ACPI), marks it unstable and falls back to
 * the 1 ms refined-jiffies clocksource: every guest clock read is then 1 ms coarse. Booting
 * with tsc_early_khz=<this value> gives the guest a nanosecond clock.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

static int64_t raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(void)
{
	struct timespec pause = { .tv_nsec = 200 * 1000 * 1000 };
	int64_t t0 = raw_ns(), t1;
	uint64_t c0 = __rdtsc(), c1;

	nanosleep(&pause, NULL);
	t1 = raw_ns();
	c1 = __rdtsc();
	if (t1 <= t0 || c1 <= c0)
		return 1;
	printf("%.0f\n", (double)(c1 - c0) * 1e6 / (double)(t1 - t0));
	return 0;
}
