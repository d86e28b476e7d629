/**
 * `toolgate/sql`: the SQL scope. No dependency: each dialect's lexer and the parser are toolgate's own.
 *
 * @example
 * import { rules } from 'toolgate';
 * import { sqlScope } from 'toolgate/sql';
 * const policy = rules([{ id: 'read-orders', effect: 'allow', tool: 'db.query',
 *   when: { 'args.sql': sqlScope({ dialect: 'postgresql', tables: ['orders'], readOnly: true, maxRows: 500 }) } }]);
 */
export { type SqlFunctionsOptions, type SqlScopeOptions, sqlScope } from '../policy/scopes/sql.ts';
export type { SqlDialect } from './dialect.ts';
export { defaultSqlFunctions } from './functions.ts';
