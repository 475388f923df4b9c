/**
 * Thena's Workflows API, declared only (sources/thena-workflows/): loaded end to end from its
 * simulator into every destination, every table equal to the simulator's truth (executions with
 * their workflow's uid, tasks with their workflow's uid and execution's id); a second run
 * duplicates nothing and a run where nothing changed reads no task; new and completed
 * executions, new, updated and toggled workflows, new fields and type changes end exact after
 * `run`, deleted workflows (their executions and tasks with them) after `reconcile`; faults and
 * a small rate limit (with and without headers) change nothing; kill -9 at several moments then
 * `run` ends exact; a wrong key exits 3 having written nothing, a tier 403 skips executions and
 * their tasks only, every list refused exits 3; and the key is found in no output, file,
 * warehouse or URL.
 */
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import type { ResolvedPipeline } from '../../src/config/resolve-pipeline.js'
import { workflowsPipeline } from '../../sources/thena-workflows/index.js'
import {
  startWorkflowsSimulator,
  WORKFLOWS_ROUTES,
} from '../../sources/thena-workflows/simulator/index.js'
import type {
  WorkflowsMutation,
  WorkflowsSimulator,
  WorkflowsSimulatorOptions,
} from '../../sources/thena-workflows/simulator/index.js'
import { killAfterFirstCommit, runCli } from '../helpers/cli.js'
import { DESTINATION_KINDS, dumpWarehouse } from '../helpers/destinations.js'
import { tempDir } from '../helpers/pipeline.js'
import {
  col,
  DatasetTruth,
  errorLines,
  expectNothingWritten,
  filesUnder,
  inSession,
  runOk,
} from '../helpers/warehouse-truth.js'
import type { Column, Obj, Query } from '../helpers/warehouse-truth.js'

const REPO_CONFIG = join(import.meta.dirname, '../../pipelines.config.ts')
const DATASET = 'thena_workflows'
const workflows = new DatasetTruth(DATASET, {
  workflows: 'uid',
  workflow_executions: 'id',
  workflow_tasks: 'id',
  activities: 'uid',
  events: 'uid',
})

let sims: WorkflowsSimulator[] = []
afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()))
  sims = []
})

const start = async (options: WorkflowsSimulatorOptions = {}) => {
  const s = await startWorkflowsSimulator({
    // A clock of its own, in the past: what it stamps is never within the minutes before a run,
    // which a run reads again (decisions #57), whatever time of day the test runs at.
    endAt: '2026-06-01T00:00:00.000Z',
    workflows: 8,
    executionsPerWorkflow: 4,
    rateLimit: false,
    ...options,
  })
  sims.push(s)
  return s
}

/** What a user exports to load the Workflows API (the Platform's key). */
const envOf = (s: WorkflowsSimulator, destination: string, key = s.apiKey): NodeJS.ProcessEnv => ({
  THENA_PLATFORM_API_KEY: key,
  THENA_WORKFLOWS_BASE_URL: s.url,
  THENA_DESTINATION: destination,
})

const pipelineOf = (env: NodeJS.ProcessEnv, secrets = true): ResolvedPipeline =>
  resolvePipeline(
    { pipelines: { workflows: { ...workflowsPipeline, http: { backoffMs: 5 } } } },
    'workflows',
    env,
    { secrets },
  )

const cli = (command: string, dir: string, env: NodeJS.ProcessEnv) =>
  runCli([command, '--config', REPO_CONFIG, '--pipeline', 'workflows'], { cwd: dir, env })

/** A number, or null where the value changed type (that value is in a variant column). */
const numberOr = (name: string): Column => [
  (r) => (typeof r[name] === 'number' ? r[name] : null),
  'num',
]

/**
 * The warehouse holds exactly the simulator's truth: every table by key with its meaningful
 * columns, executions with their workflow's uid and tasks with both parents' keys, the steps of
 * each workflow, rows gone from the source marked deleted, and no duplicates anywhere.
 * `skipped` tables (a tier without them) are not compared.
 */
async function expectWorkflowsTruth(
  p: ResolvedPipeline,
  s: WorkflowsSimulator,
  skipped: readonly ('workflow_executions' | 'workflow_tasks')[] = [],
) {
  await inSession(p, (q) => workflowsTruthIn(q, s, skipped))
}

async function workflowsTruthIn(q: Query, s: WorkflowsSimulator, skipped: readonly string[]) {
  const truth = s.truth()
  await workflows.table(q, 'workflows', truth.workflows, {
    name: col('name'),
    unique_identifier: col('uniqueIdentifier'),
    version: numberOr('version'),
    is_active: col('isActive'),
    trigger_event__event_name: [(r) => (r.triggerEvent as Obj).eventName, 'is'],
    created_at: col('createdAt', 'ms'),
    updated_at: col('updatedAt', 'ms'),
  })
  await workflows.children(
    q,
    'workflows__workflow_definition',
    truth.workflows,
    ['step_identifier', 'activity__unique_identifier'],
    (w) =>
      (w.workflowDefinition as Obj[]).map((step) => [
        step.stepIdentifier,
        (step.activity as Obj).uniqueIdentifier,
      ]),
  )
  if (!skipped.includes('workflow_executions')) {
    const executions = truth.executions.map(({ workflowUid, execution }) => [
      execution.id as string,
      { ...execution, parentUid: workflowUid },
    ])
    await workflows.table(q, 'workflow_executions', new Map(executions as [string, Obj][]), {
      // The parent's key, stamped by the loader, and the record's own link agree.
      workflow_uid: col('parentUid'),
      status: col('status'),
      workflow_version: numberOr('workflowVersion'),
      triggered_by__uid: [(r) => (r.triggeredBy as Obj).uid, 'is'],
      error__message: [(r) => (r.error as Obj | null)?.message ?? null, 'is'],
      started_at: col('startedAt', 'ms'),
      completed_at: col('completedAt', 'ms'),
      updated_at: col('updatedAt', 'ms'),
    })
    expect(truth.executions.every((e) => e.execution.workflowUid === e.workflowUid)).toBe(true)
  }
  if (!skipped.includes('workflow_tasks')) {
    const tasks = truth.tasks.map(({ workflowUid, executionId, task }) => [
      task.id as string,
      { ...task, workflowUid, parentExecutionId: executionId },
    ])
    await workflows.table(q, 'workflow_tasks', new Map(tasks as [string, Obj][]), {
      // A task carries no workflow uid: both parents' keys are the loader's.
      workflow_uid: col('workflowUid'),
      execution_id: col('parentExecutionId'),
      step_identifier: col('stepIdentifier', 'num'),
      activity_unique_identifier: col('activityUniqueIdentifier'),
      status: col('status'),
      attempt: col('attempt', 'num'),
      completed_at: col('completedAt', 'ms'),
      updated_at: col('updatedAt', 'ms'),
    })
  }
  await workflows.table(q, 'activities', truth.activities, {
    name: col('name'),
    unique_identifier: col('uniqueIdentifier'),
    version: col('version', 'num'),
  })
  await workflows.table(q, 'events', truth.events, {
    event_name: col('eventName'),
    source: col('source'),
  })
  await workflows.noDuplicates(q, skipped)
}

/** Keys of the executions whose `updatedAt` differs from (or is missing in) an earlier truth's. */
const executionsChangedSince = (
  before: ReturnType<WorkflowsSimulator['truth']>,
  s: WorkflowsSimulator,
) => {
  const was = new Map(before.executions.map((e) => [e.execution.id, e.execution.updatedAt]))
  return s
    .truth()
    .executions.filter((e) => was.get(e.execution.id) !== e.execution.updatedAt)
    .map((e) => e.execution.id as string)
}

for (const kind of DESTINATION_KINDS) {
  describe(`Thena Workflows, declared only, into ${kind.name}`, () => {
    it('loads every table equal to the truth; a second run duplicates nothing and reads no task', async () => {
      const s = await start()
      const p = pipelineOf(envOf(s, await kind.freshUrl()))
      await runOk(p)
      const truth = s.truth()
      // Every status is there, so running, failed and cancelled executions are compared too.
      expect(new Set(truth.executions.map((e) => e.execution.status))).toEqual(
        new Set(['COMPLETED', 'RUNNING', 'FAILED', 'CANCELLED']),
      )
      await expectWorkflowsTruth(p, s)
      // Executions: one request per workflow; tasks: one per execution.
      expect(s.stats.byRoute).toMatchObject({
        executions: truth.workflows.size,
        tasks: truth.executions.length,
      })
      s.resetStats()
      await runOk(p)
      await expectWorkflowsTruth(p, s)
      // A workflow's record does not change when it runs: executions are read each run; tasks
      // only for executions that moved, and none did.
      expect(s.stats.byRoute.executions).toBe(truth.workflows.size)
      expect(s.stats.byRoute.tasks).toBeUndefined()
    })

    it('after run: new and completed executions, new, updated and toggled workflows, new fields, type changes', async () => {
      const s = await start({ seed: 4 })
      const p = pipelineOf(envOf(s, await kind.freshUrl()))
      await runOk(p)
      const before = s.truth()
      const mutations: WorkflowsMutation[] = [
        { op: 'newExecutions', count: 6 },
        { op: 'completeExecutions', count: 2 },
        { op: 'newWorkflows', count: 2 },
        { op: 'updateWorkflows', count: 2 },
        { op: 'toggleWorkflows', count: 2 },
        { op: 'newActivities', count: 1 },
        { op: 'newEvents', count: 1 },
        { op: 'addField', resource: 'executions', field: 'durationMs', value: 'number' },
        { op: 'addField', resource: 'workflows', field: 'owner', value: 'string' },
        { op: 'changeFieldType', resource: 'workflows', field: 'version' },
        { op: 'changeFieldType', resource: 'executions', field: 'workflowVersion' },
      ]
      const ids = mutations.map((m) => s.mutate(m).ids)
      // Two of the running executions completed: there were some to complete.
      expect(ids[1]).toHaveLength(2)
      s.resetStats()
      await runOk(p)
      await expectWorkflowsTruth(p, s)
      // Tasks were read for exactly the executions whose `updatedAt` moved (new or completed).
      const moved = executionsChangedSince(before, s)
      expect(moved.length).toBe(8)
      expect(s.stats.byRoute.tasks).toBe(moved.length)
      const truth = s.truth()
      await inSession(p, async (q) => {
        // New fields are new columns, filled on every row.
        const durations = await q(`SELECT id, duration_ms FROM ${DATASET}.workflow_executions`)
        expect(new Map(durations.map((r) => [r.id, Number(r.duration_ms)]))).toEqual(
          new Map(truth.executions.map(({ execution: e }) => [e.id, e.durationMs])),
        )
        const owners = await q(`SELECT uid, owner FROM ${DATASET}.workflows`)
        expect(new Map(owners.map((r) => [r.uid, r.owner]))).toEqual(
          new Map([...truth.workflows.values()].map((w) => [w.uid, w.owner])),
        )
        // The type changes: the values that became text are kept, in variant columns.
        const versions = await q(`SELECT uid, version__v_text AS v FROM ${DATASET}.workflows`)
        expect(new Map(versions.map((r) => [r.uid, r.v]))).toEqual(
          new Map([...truth.workflows.values()].map((w) => [w.uid, w.version])),
        )
        expect([...truth.workflows.values()].every((w) => /^v\d+$/.test(String(w.version)))).toBe(
          true,
        )
        const runVersions = await q(
          `SELECT id, workflow_version__v_text AS v FROM ${DATASET}.workflow_executions`,
        )
        expect(new Map(runVersions.map((r) => [r.id, r.v]))).toEqual(
          new Map(truth.executions.map(({ execution: e }) => [e.id, e.workflowVersion])),
        )
        const history = await q(
          `SELECT table_name, column_name, variant_of FROM ${DATASET}._thena_schema_history
           WHERE event = 'add_column' AND variant_of IS NOT NULL`,
        )
        expect(history).toEqual(
          expect.arrayContaining([
            { table_name: 'workflows', column_name: 'version__v_text', variant_of: 'version' },
            {
              table_name: 'workflow_executions',
              column_name: 'workflow_version__v_text',
              variant_of: 'workflow_version',
            },
          ]),
        )
      })
    })

    it('after reconcile: deleted workflows, their executions and tasks marked; a task field their executions did not announce', async () => {
      const s = await start({ seed: 6, workflows: 10 })
      const p = pipelineOf(envOf(s, await kind.freshUrl()))
      await runOk(p)
      const before = s.truth()
      const gone = s.mutate({ op: 'deleteWorkflows', count: 2 }).ids
      expect(gone).toHaveLength(2)
      const goneExecutions = before.executions.filter((e) => gone.includes(e.workflowUid))
      const goneTasks = before.tasks.filter((t) => gone.includes(t.workflowUid))
      expect(goneTasks.length).toBeGreaterThan(0)
      // Tasks gain a field and their executions' `updatedAt` stays: only reconcile reads them.
      s.mutate({ op: 'addField', resource: 'tasks', field: 'workerId', value: 'string' })
      s.mutate({ op: 'newExecutions', count: 3 })
      await runOk(p)
      const result = await runOk(p, { mode: 'reconcile' })
      await expectWorkflowsTruth(p, s)
      expect(result.deleted).toBe(2 + goneExecutions.length + goneTasks.length)
      await inSession(p, async (q) => {
        expect(await workflows.marked(q)).toEqual({
          workflows: 2,
          ...(goneExecutions.length > 0 && { workflow_executions: goneExecutions.length }),
          workflow_tasks: goneTasks.length,
        })
        const workers = await q(`SELECT id, worker_id FROM ${DATASET}.workflow_tasks`)
        const truth = s.truth()
        expect(
          new Map(workers.filter((r) => r.worker_id !== null).map((r) => [r.id, r.worker_id])),
        ).toEqual(new Map(truth.tasks.map(({ task }) => [task.id, task.workerId])))
      })
    })

    for (const headers of [true, false])
      it(`through faults and a rate limit of 10/s ${headers ? 'with' : 'without'} headers: still exactly the truth`, async () => {
        // Small: about 25 requests, 3 windows.
        const s = await start({
          seed: headers ? 21 : 22,
          workflows: 4,
          executionsPerWorkflow: 3,
          faults: { serverError: 0.05, truncated: 0.05, drop: 0.03, htmlOk: 0.03 },
          rateLimit: { limit: 10, windowMs: 1000, headers },
        })
        const p = pipelineOf(envOf(s, await kind.freshUrl()))
        const result = await runOk(p)
        expect(s.stats.faults).toBeGreaterThan(0)
        expect(result.retries).toBeGreaterThan(0)
        // With the headers the run spaces its requests and is never refused; without, it is
        // refused and waits for the window.
        if (headers) expect(s.stats.rateLimited).toBe(0)
        else expect(s.stats.rateLimited).toBeGreaterThan(0)
        expect(result.rateLimited).toBe(s.stats.rateLimited)
        await expectWorkflowsTruth(p, s)
      })

    it('refused: a wrong key exits 3 with one line and writes nothing; so does a tier refusing every list', async () => {
      const s = await start()
      const all = await start({ forbidden: [...WORKFLOWS_ROUTES] })
      const url = await kind.freshUrl()
      const wrong = `pk-wrong-${randomBytes(8).toString('hex')}`
      const [refused, forbidden] = await Promise.all([
        cli('run', tempDir(), envOf(s, url, wrong)),
        cli('run', tempDir(), envOf(all, await kind.freshUrl())),
      ])
      expect(refused.code).toBe(3)
      expect(errorLines(refused)).toEqual([
        expect.stringMatching(/HTTP 401.*THENA_PLATFORM_API_KEY/),
      ])
      expect(refused.stdout + refused.stderr).not.toContain(wrong)
      // Refused at the first request, before the warehouse was created.
      expect(s.stats.requests).toBe(1)
      await expectNothingWritten(kind, url)
      expect(forbidden.code).toBe(3)
      expect(errorLines(forbidden)).toEqual([expect.stringContaining('HTTP 403')])
      expect(Object.keys(all.stats.byStatus)).toEqual(['403'])
      expect(Object.keys(all.stats.byRoute).sort()).toEqual(['activities', 'events', 'workflows'])
    })

    it('executions refused by the tier: executions and tasks skipped with a line each, the rest loads, a reconcile marks nothing', async () => {
      const s = await start({ forbidden: ['executions'] })
      const dir = tempDir()
      const env = envOf(s, await kind.freshUrl())
      const first = await cli('run', dir, env)
      expect(first.code).toBe(0)
      expect(first.stdout).toMatch(/^\s*workflow_executions\s+skipped: .*HTTP 403/m)
      expect(first.stdout).toMatch(
        /^\s*workflow_tasks\s+skipped: its parent workflow_executions was skipped/m,
      )
      expect(s.stats.byRoute.tasks).toBeUndefined()
      const p = pipelineOf(env)
      const again = await runOk(p, { mode: 'reconcile' })
      expect(again.deleted).toBe(0)
      expect(again.resources.filter((r) => r.skipped).map((r) => r.resource)).toEqual([
        'workflow_executions',
        'workflow_tasks',
      ])
      await expectWorkflowsTruth(p, s, ['workflow_executions', 'workflow_tasks'])
      await inSession(p, async (q) => {
        expect(await workflows.marked(q)).toEqual({})
        const tables = await workflows.tables(q)
        for (const t of tables.filter((t) => /^workflow_(executions|tasks)(__|$)/.test(t)))
          expect((await q(`SELECT count(*)::INT AS n FROM ${DATASET}.${t}`))[0]!.n, t).toBe(0)
      })
    })

    it('kill -9 at several moments, then run: exactly the truth; the key is never printed or stored', async () => {
      const key = `pk-live-${randomBytes(12).toString('hex')}`
      const s = await start({
        apiKey: key,
        seed: 3,
        workflows: 10,
        executionsPerWorkflow: 5,
        faults: { latencyMs: 20 },
      })
      const dir = tempDir()
      const url = await kind.freshUrl()
      const env = envOf(s, url)
      const killed = await killAfterFirstCommit(
        ['run', '--config', REPO_CONFIG, '--pipeline', 'workflows'],
        { cwd: dir, env },
        [0, 250, 600],
      )
      // About 65 requests of 20 ms each: every one of these runs died mid-way.
      expect(killed.map((r) => r.signal)).toEqual(['SIGKILL', 'SIGKILL', 'SIGKILL'])
      let output = killed.map((r) => r.stdout + r.stderr).join('')
      s.mutate({ op: 'newExecutions', count: 4 })
      const last = await cli('run', dir, env)
      output += last.stdout + last.stderr
      expect(last.code).toBe(0)
      const p = pipelineOf(envOf(s, url), false)
      await expectWorkflowsTruth(p, s)
      const dirs = kind.name === 'duckdb' ? [dir, dirname(url.slice('duckdb:'.length))] : [dir]
      const warehouse = dumpWarehouse(p)
      // The search is over real content: the warehouse holds the tasks.
      expect(warehouse).toContain(s.truth().tasks[0]!.task.id as string)
      for (const text of [output, filesUnder(...dirs), warehouse, s.stats.urls.join('\n')])
        expect(text).not.toContain(key)
    })
  })
}
