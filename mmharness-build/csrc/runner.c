/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The runner executable: scenarios in on stdin, outcomes out on stdout, in
 * the fixed encoding of scenario.h. The CLI runs one per tree as a child
 * process, so trees with different layouts can be driven from one program
 * and a crash in the kernel code ends the child, not the caller.
 */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include "scenario.h"

#ifdef MMH_COVERAGE
/*
 * libgcov's: write the counts so far (to $GCOV_PREFIX/tu.gcda, which the
 * caller moves away before the next scenario), and set them to zero, so
 * each file holds what one scenario ran.
 */
void __gcov_dump(void);
void __gcov_reset(void);
#endif

static int io_full(int write_side, int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = write_side ? write(fd, p, len) : read(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int main(void)
{
	/* A greeting with the encoding's sizes, so a mismatch is caught. */
	uint32_t hello[4] = { 0x31484d4d /* "MMH1" */, sizeof(struct mmh_scenario),
			      sizeof(struct mmh_outcome), 0 };
	struct mmh_scenario s;
	struct mmh_outcome o;
	/*
	 * Outcomes get a descriptor of their own, and stdout goes to stderr:
	 * the tools headers turn printk() into printf(), which would otherwise
	 * write into the outcome stream.
	 */
	int out = dup(1);

	if (out < 0 || dup2(2, 1) < 0)
		return 1;
	/* A pipe makes stdout fully buffered: what the kernel code printed
	 * just before a crash would die with the runner, unread. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (io_full(1, out, hello, sizeof(hello)))
		return 1;
	while (!io_full(0, 0, &s, sizeof(s))) {
		mmh_run(&s, &o);
#ifdef MMH_COVERAGE
		__gcov_dump();
		__gcov_reset();
#endif
		if (io_full(1, out, &o, sizeof(o)))
			return 1;
	}
	return 0;
}
