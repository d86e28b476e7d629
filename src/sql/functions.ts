import type { SqlDialect } from './dialect.ts';

const list = (text: string): readonly string[] => Object.freeze(text.trim().split(/\s+/).sort());

const WINDOW =
  'row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value';

const POSTGRESQL = list(`
  count sum avg min max bool_and bool_or every string_agg array_agg stddev stddev_pop stddev_samp variance
  var_pop var_samp ${WINDOW}
  abs ceil ceiling floor round trunc sign mod power sqrt cbrt exp ln log log10 div greatest least coalesce nullif
  lower upper initcap length char_length character_length octet_length substr substring left right ltrim
  rtrim btrim trim replace translate concat concat_ws lpad rpad position strpos split_part reverse
  starts_with md5
  now current_date current_time current_timestamp localtime localtimestamp clock_timestamp
  statement_timestamp transaction_timestamp date_trunc date_part extract age make_date make_time
  make_timestamp to_char to_date to_timestamp to_number`);

const MYSQL = list(`
  count sum avg min max group_concat std stddev stddev_pop stddev_samp variance var_pop var_samp ${WINDOW}
  abs ceil ceiling floor round truncate sign mod power pow sqrt exp ln log log10 log2 greatest least
  coalesce nullif ifnull if
  lower upper lcase ucase length char_length character_length substr substring substring_index left right
  ltrim rtrim trim replace concat concat_ws lpad rpad locate instr position reverse md5
  now curdate curtime current_date current_time current_timestamp localtime localtimestamp utc_date
  utc_time utc_timestamp date time year month day dayofmonth dayofweek dayofyear hour minute second week
  weekday quarter date_format str_to_date datediff date_add date_sub adddate subdate last_day
  unix_timestamp from_unixtime extract`);

const SQLITE = list(`
  count sum total avg min max group_concat string_agg ${WINDOW}
  abs coalesce ifnull iif nullif lower upper length substr substring trim ltrim rtrim replace instr round
  date time datetime julianday strftime unixepoch`);

/**
 * The functions `sqlScope` allows by default, per dialect: plain scalar, aggregate and window
 * functions. None takes SQL or a relation name as text, reads files, sleeps, takes locks, or reads
 * or changes settings or sequences. Replace or extend a scope's list with its `functions` option.
 */
export const defaultSqlFunctions: Readonly<Record<SqlDialect, readonly string[]>> = Object.freeze({
  postgresql: POSTGRESQL,
  mysql: MYSQL,
  mariadb: MYSQL,
  sqlite: SQLITE,
});

/** Functions that run SQL given as text, read a relation by name, touch files, sessions, locks or sequences. */
const NEVER = new Set(
  list(`
    query_to_xml query_to_xml_and_xmlschema query_to_xmlschema table_to_xml table_to_xml_and_xmlschema
    table_to_xmlschema cursor_to_xml cursor_to_xmlschema schema_to_xml schema_to_xml_and_xmlschema
    schema_to_xmlschema database_to_xml database_to_xml_and_xmlschema database_to_xmlschema ts_stat
    ts_rewrite set_config current_setting nextval setval currval lastval txid_current
    sleep benchmark get_lock release_lock release_all_locks is_free_lock is_used_lock load_file
    master_pos_wait source_pos_wait sys_exec sys_eval load_extension readfile writefile edit fts3_tokenizer
    xp_cmdshell openrowset opendatasource`),
);
const NEVER_PREFIXES = ['pg_', 'lo_', 'dblink', 'xp_', 'sp_'];

/** Why a function may never be allowed, or undefined. */
export function neverAllowed(name: string): string | undefined {
  if (NEVER.has(name) || NEVER_PREFIXES.some((prefix) => name.startsWith(prefix)))
    return `${name} runs SQL given as text, or touches files, sessions, locks, settings or sequences`;
  return undefined;
}
