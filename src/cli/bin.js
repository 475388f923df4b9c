#!/usr/bin/env node
// Entry point for the `thena-sync` bin. The CLI and the user's pipelines.config.ts are
// TypeScript, so tsx's loader is registered before anything else is imported.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('./main.ts')
process.exitCode = await main(process.argv)
