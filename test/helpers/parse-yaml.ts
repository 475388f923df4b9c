/**
 * YAML read back by a real parser, not by the writer's own rules: prettier's YAML parser (the
 * `yaml` library, bundled in prettier, a devDependency), its syntax tree turned into values.
 * It throws on text that is not YAML. Optionally PyYAML, which dbt itself reads YAML with.
 */
import { spawnSync } from 'node:child_process'
import { parsers } from 'prettier/plugins/yaml'

interface Node {
  readonly type: string
  readonly value?: unknown
  readonly children?: readonly (Node | null)[]
}

const kids = (node: Node): Node[] => (node.children ?? []).filter((c): c is Node => c !== null)

// YAML 1.2 core schema, as the writer's plain scalars use it (numbers, booleans, null).
function plain(text: string): unknown {
  if (/^(?:null|Null|NULL|~|)$/.test(text)) return null
  if (/^(?:true|True|TRUE)$/.test(text)) return true
  if (/^(?:false|False|FALSE)$/.test(text)) return false
  if (/^[-+]?(?:\d+|\d*\.\d+(?:[eE][-+]?\d+)?)$/.test(text)) return Number(text)
  return text
}

function valueOf(node: Node | undefined): unknown {
  if (!node) return null
  switch (node.type) {
    case 'plain':
      return plain(String(node.value))
    case 'quoteDouble':
    case 'quoteSingle':
    case 'blockLiteral':
    case 'blockFolded':
      return String(node.value)
    case 'mapping':
    case 'flowMapping': {
      const map: Record<string, unknown> = {}
      for (const item of kids(node)) {
        const [key, value] = kids(item)
        map[String(valueOf(kids(key!)[0]))] = valueOf(value && kids(value)[0])
      }
      return map
    }
    case 'sequence':
    case 'flowSequence':
      return kids(node).map((item) => {
        const [first] = kids(item)
        // A flow sequence's item may be the value itself rather than wrapped.
        return item.type === 'sequenceItem' || item.type === 'flowSequenceItem'
          ? valueOf(first)
          : valueOf(item)
      })
    default:
      throw new Error(`parseYaml: unexpected ${node.type}`)
  }
}

/** The one document of `text` as plain values; throws when `text` is not valid YAML. */
export async function parseYaml(text: string): Promise<unknown> {
  const root = (await parsers.yaml.parse(text, {} as never)) as Node
  const documents = kids(root).filter((d) => d.type === 'document')
  if (documents.length !== 1) throw new Error(`parseYaml: ${documents.length} documents`)
  const body = kids(documents[0]!).find((n) => n.type === 'documentBody')
  return valueOf(body && kids(body).find((n) => n.type !== 'comment'))
}

/** Whether `python3` with PyYAML (the parser dbt uses) is on this machine. */
export const hasPyYaml = (): boolean =>
  spawnSync('python3', ['-c', 'import yaml'], { stdio: 'ignore' }).status === 0

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
  if (result.status !== 0) throw new Error(`PyYAML: ${result.stderr}`)
  return JSON.parse(result.stdout) as unknown
}
