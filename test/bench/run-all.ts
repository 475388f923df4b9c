/** `npm run bench`: every benchmark, figures printed. Never part of `npm test`. */
import { duckdbBench } from './duckdb-bench.js'
import { freshnessBench } from './freshness-bench.js'
import { historyBench } from './history-bench.js'
import { platformBench } from './platform-bench.js'
import { postgresBench } from './postgres-bench.js'
import { simulatorBench } from './simulator-bench.js'

const only = process.argv[2]
const benches: Record<string, () => Promise<void>> = {
  simulator: simulatorBench,
  duckdb: duckdbBench,
  postgres: postgresBench,
  freshness: freshnessBench,
  platform: platformBench,
  history: historyBench,
}
for (const [name, bench] of Object.entries(benches)) {
  if (only && only !== name) continue
  await bench()
  console.log()
}
