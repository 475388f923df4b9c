/**
 * YAML read back by real parsers, not by the writer's own rules: the `yaml` library (YAML 1.1
 * rules, as dbt reads them) and PyYAML, the parser dbt itself uses (`.ci/run` installs it when
 * the machine lacks it). Both throw on text that is not YAML.
 */
import { spawnSync } from 'node:child_process'
import { parseAllDocuments } from 'yaml'

/** The one document of `text` as plain values; throws when `text` is not valid YAML. */
export function parseYaml(text: string): unknown {
  const documents = parseAllDocuments(text, { version: '1.1', uniqueKeys: true })
  if (!Array.isArray(documents) || documents.length !== 1)
    throw new Error(`parseYaml: ${Array.isArray(documents) ? documents.length : 0} documents`)
  const [doc] = documents
  if (doc!.errors.length > 0) throw new Error(`parseYaml: ${doc!.errors[0]!.message}`)
  return doc!.toJS()
}

/** `text` as PyYAML's `safe_load` reads it (as dbt does), through JSON; throws on invalid YAML. */
export function parsePyYaml(text: string): unknown {
  const result = spawnSync(
    'python3',
    [
      '-c',
      'import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin.buffer.read().decode("utf-8"))))',
    ],
    { input: text, encoding: 'utf8', maxBuffer: 1 << 28 },
  )
  if (result.error) throw result.error
  if (result.status !== 0) throw new Error(`PyYAML: ${result.stderr}`)
  return JSON.parse(result.stdout) as unknown
}
