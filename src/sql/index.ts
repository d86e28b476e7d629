/**
 * `toolgate/sql`: the SQL scope. Needs the optional peer dependency `node-sql-parser`.
 *
 * @example
 * import { rules } from 'toolgate';
 * import { sqlScope } from 'toolgate/sql';
 * const policy = rules([{ id: 'read-orders', effect: 'allow', tool: 'db.query',
 *   when: { 'args.sql': sqlScope({ tables: ['orders'], readOnly: true, maxRows: 500 }) } }]);
 */
export { type SqlScopeOptions, sqlScope } from '../policy/scopes/sql.ts';
