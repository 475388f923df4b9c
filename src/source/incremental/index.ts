import { createdRange } from './created-range.js'
import { fullRefresh } from './full-refresh.js'
import { pageDigest } from './page-digest.js'
import { pageLookback } from './page-lookback.js'
import { resume } from './resume.js'
import { registerStrategy } from './strategy.js'
import { updatedSince } from './updated-since.js'

registerStrategy(fullRefresh)
registerStrategy(resume)
registerStrategy(pageLookback)
registerStrategy(pageDigest)
registerStrategy(createdRange)
registerStrategy(updatedSince)

export { createdRange, fullRefresh, pageDigest, pageLookback, resume, updatedSince }
export * from './strategy.js'
