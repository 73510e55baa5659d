// Loaded into the benchmark's controller process with `--expose-gc --import`: on SIGUSR2 it runs
// a full garbage collection and writes the process's memory figures to $FERRY_BENCH_PROBE, so the
// benchmark reads the heap that live objects hold, not what garbage happens to be around.
// With $FERRY_BENCH_SNAPSHOT=/path/prefix it also writes a heap snapshot there.
// Benchmark-only: the product never loads it.
import { writeFileSync } from 'node:fs';
import { getHeapStatistics, writeHeapSnapshot } from 'node:v8';

const out = process.env.FERRY_BENCH_PROBE;
const gc = (globalThis as { gc?: () => void }).gc;

if (out && gc) {
  process.on('SIGUSR2', () => {
    gc();
    gc();
    // For looking into what the heap holds (Chrome DevTools → Memory → Load).
    const snapshot = process.env.FERRY_BENCH_SNAPSHOT;
    if (snapshot) writeHeapSnapshot(`${snapshot}-${process.pid}-${Date.now()}.heapsnapshot`);
    const mem = process.memoryUsage();
    const heap = getHeapStatistics();
    writeFileSync(
      out,
      JSON.stringify({
        rss: mem.rss,
        heapUsed: mem.heapUsed,
        heapTotal: mem.heapTotal,
        external: mem.external,
        arrayBuffers: mem.arrayBuffers,
        usedHeapSize: heap.used_heap_size,
        at: Date.now(),
      }),
    );
  });
}
