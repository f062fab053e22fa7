#!/usr/bin/env bash
# examples/irq_loop against sim: every completion arrives through the
# queue pair's eventfd, and the data reads back.
# Usage: test-example-irq-loop.sh IRQ_LOOP
set -euo pipefail
out=$("$1" sim:)
echo "$out"
grep -Eq '^queue pair [0-9]+, MSI-X vector [1-9][0-9]*, eventfd [0-9]+$' <<<"$out"
grep -Eq '^32 writes completed via interrupts \([1-9][0-9]* wakeups\)$' <<<"$out"
grep -Eq '^32 reads completed via interrupts \([1-9][0-9]* wakeups\)$' <<<"$out"
grep -q '^data verified: 32 blocks of 4096 bytes$' <<<"$out"
# One vector (sim:vectors=1, as a function on MSI or INTx): the pair shares vector 0.
out=$("$1" sim:vectors=1)
echo "$out"
grep -Eq '^queue pair [0-9]+, MSI-X vector 0, eventfd [0-9]+$' <<<"$out"
grep -Eq '^32 reads completed via interrupts \([1-9][0-9]* wakeups\)$' <<<"$out"
grep -q '^data verified: 32 blocks of 4096 bytes$' <<<"$out"
