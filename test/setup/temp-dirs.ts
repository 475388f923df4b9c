// A full test run makes a few hundred DuckDB files: each test file removes its own.
import { afterAll } from 'vitest'
import { removeTempDirs } from '../helpers/pipeline.js'

afterAll(removeTempDirs)
