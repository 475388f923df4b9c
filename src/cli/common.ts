import type { ResolvedPipeline } from '../config/resolve-pipeline.js'
import type { ThenaSyncConfig } from '../config/define-config.js'
import { isEnvRef } from '../config/env.js'
import { ConfigError } from '../errors.js'
import { EXIT_CODES } from './exit-codes.js'
import type { ExitCode } from './exit-codes.js'
import type { RunResult } from '../pipeline/run-pipeline.js'

/** The config modules, loaded on first use: `--help` and `--version` need neither zod nor the sources. */
async function configModules() {
  const [{ loadConfig }, { enabledPipelines, resolvePipeline }] = await Promise.all([
    import('../config/load-config.js'),
    import('../config/resolve-pipeline.js'),
  ])
  return { loadConfig, enabledPipelines, resolvePipeline }
}

/** Options every command that touches a pipeline accepts. */
export interface PipelineFlags {
  readonly config?: string
  readonly pipeline?: string
}

/** The pipelines a command applies to: the one named, or all that are enabled. */
export async function selectPipelines(
  flags: PipelineFlags,
  options: { readonly secrets?: boolean } = {},
): Promise<ResolvedPipeline[]> {
  const { loadConfig, enabledPipelines, resolvePipeline } = await configModules()
  const config = await loadConfig(flags.config)
  const names = flags.pipeline ? [flags.pipeline] : enabledPipelines(config)
  if (names.length === 0) throw nothingEnabled(config)
  return names.map((name) => resolvePipeline(config, name, process.env, options))
}

/**
 * No pipeline of the config is enabled: one line naming, for each, the variable that enables
 * it (`THENA_API_TOKEN (thena), THENA_PLATFORM_API_KEY (platform, workflows)`).
 */
function nothingEnabled(config: ThenaSyncConfig): ConfigError {
  const byVariable = new Map<string, string[]>()
  for (const [name, p] of Object.entries(config.pipelines)) {
    const variable = isEnvRef(p.enabled) ? p.enabled.name : `pipelines.${name}.enabled`
    byVariable.set(variable, [...(byVariable.get(variable) ?? []), name])
  }
  const keys = [...byVariable].map(([v, names]) => `${v} (${names.join(', ')})`).join(', ')
  return new ConfigError(
    `no pipeline to run: each runs once its key is set: ${keys}; export one (or try \`thena-sync demo\`, which needs none)`,
  )
}

/** The first pipeline (or the named one), for commands that read one warehouse. */
export async function selectPipeline(flags: PipelineFlags): Promise<ResolvedPipeline> {
  const { loadConfig, enabledPipelines, resolvePipeline } = await configModules()
  const config = await loadConfig(flags.config)
  // The first that runs here (its key is set), else the first declared.
  const name =
    flags.pipeline ?? enabledPipelines(config)[0] ?? Object.keys(config.pipelines)[0] ?? 'thena'
  // Reading the warehouse needs none of the API's secrets: they are not read at all.
  return resolvePipeline(config, name, process.env, { secrets: false })
}

/** Exit code for a run's outcome. */
export function exitCodeOf(result: RunResult): ExitCode {
  if (result.status === 'success') return EXIT_CODES.ok
  if (result.status === 'interrupted') return EXIT_CODES.interrupted
  return result.error?.code === 'http_unauthorized' ? EXIT_CODES.auth : EXIT_CODES.failed
}

/** An AbortSignal fired by the first SIGINT/SIGTERM; a second one exits at once. */
export function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController()
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(EXIT_CODES.interrupted)
    controller.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    },
  }
}
