import { Command } from 'commander'
import type { ResolvedPipeline } from '../config/resolve-pipeline.js'
import { ConfigError } from '../errors.js'
import { interruptSignal } from './common.js'
import type { PipelineFlags } from './common.js'

interface ShowFlags extends PipelineFlags {
  readonly port?: string
  readonly host?: string
}

/** Interfaces that keep the dashboard on this machine. */
const LOCAL_HOSTS = new Set(['127.0.0.1', '::1', 'localhost'])

/** `--port`: a whole number 0 to 65,535 (0, the default, picks a free port). */
function portOf(text: string | undefined): number {
  if (text === undefined) return 0
  const port = Number(text)
  if (!/^\d+$/.test(text) || port > 65_535)
    throw new ConfigError(
      `--port: expected a whole number 0 to 65535 (0 picks a free port), got \`${text}\``,
    )
  return port
}

/**
 * The pipelines `show` serves: the one named, else those enabled here (their key is set), else
 * every pipeline of the config; reading needs none of their secrets.
 */
async function servedPipelines(flags: ShowFlags): Promise<ResolvedPipeline[]> {
  const [{ loadConfig }, { enabledPipelines, resolvePipeline }] = await Promise.all([
    import('../config/load-config.js'),
    import('../config/resolve-pipeline.js'),
  ])
  const config = await loadConfig(flags.config)
  const declared = Object.keys(config.pipelines)
  if (flags.pipeline !== undefined && !declared.includes(flags.pipeline))
    throw new ConfigError(
      `--pipeline: no pipeline \`${flags.pipeline}\` in the config; declared: ${declared.join(', ')}`,
    )
  const enabled = enabledPipelines(config)
  const names = flags.pipeline ? [flags.pipeline] : enabled.length > 0 ? enabled : declared
  return names.map((name) => resolvePipeline(config, name, process.env, { secrets: false }))
}

/**
 * `thena-sync show`: a local web dashboard of the warehouse (runs, resources, rejects, data, a
 * read-only SQL box, charts) on 127.0.0.1 until SIGINT/SIGTERM.
 */
export function showCommand(): Command {
  return new Command('show')
    .description(
      'serve a local web dashboard of the warehouse (runs, resources, rejects, data, SQL)',
    )
    .option('--pipeline <name>', 'only this pipeline (default: every enabled one)')
    .option('--port <n>', 'TCP port (default 0: a free one)')
    .option(
      '--host <host>',
      'interface to listen on (default 127.0.0.1); another one exposes the data and the SQL box to the network, without login',
    )
    .option('--config <path>', 'config file (default ./pipelines.config.ts)')
    .action(async (flags: ShowFlags) => {
      const port = portOf(flags.port)
      const host = flags.host ?? '127.0.0.1'
      if (host.trim() === '')
        throw new ConfigError('--host: expected an interface such as 127.0.0.1, got nothing')
      const pipelines = await servedPipelines(flags)
      const { startShowServer } = await import('../show/show-server.js')
      const stop = interruptSignal()
      const server = await startShowServer({ pipelines, host, port }).catch((error: unknown) => {
        const code = (error as NodeJS.ErrnoException).code
        if (code === 'EADDRINUSE')
          throw new ConfigError(`--port: ${port} is in use; pick another, or 0 for a free one`)
        if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EACCES')
          throw new ConfigError(
            `--host/--port: cannot listen on ${host}:${port} (${code}); use an address of this machine and a port above 1023`,
          )
        throw error
      })
      if (!LOCAL_HOSTS.has(host))
        console.error(
          `thena-sync: warning: --host ${host} lets every machine that reaches this one read the warehouse and run read-only SQL on it; there is no login`,
        )
      console.log(
        `thena-sync show: ${server.url} (${pipelines.map((p) => p.name).join(', ')}; Ctrl-C stops)`,
      )
      await new Promise<void>((resolve) => {
        if (stop.signal.aborted) return resolve()
        stop.signal.addEventListener('abort', () => resolve(), { once: true })
      })
      stop.dispose()
      await server.close()
    })
}
