export * from '../source/define-source.js'
