// Preloaded into benchmarked processes: records their own peak RSS at exit.
const fs = require('node:fs');
process.on('exit', () => {
  if (process.env.BENCH_RUSAGE_FILE) fs.writeFileSync(process.env.BENCH_RUSAGE_FILE, JSON.stringify(process.resourceUsage()));
});
