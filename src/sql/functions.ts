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

/**
 * Names no scope may allow, per family (PostgreSQL 15 `pg_proc` with `provolatile = 'v'` and the
 * contrib extensions, MariaDB 10.11 `mysql.help_topic`, MySQL 8 and SQLite built-ins): what they
 * do is not a plain computation on the row. `prefixes` refuse every name that starts so.
 */
const FAMILIES: readonly {
  readonly does: string;
  readonly names: ReadonlySet<string>;
  readonly prefixes: readonly string[];
}[] = [
  {
    does: 'runs SQL given as text or reads a relation, cursor or catalog entry by name',
    names: new Set(
      list(`
        query_to_xml query_to_xml_and_xmlschema query_to_xmlschema table_to_xml table_to_xml_and_xmlschema
        table_to_xmlschema cursor_to_xml cursor_to_xmlschema schema_to_xml schema_to_xml_and_xmlschema
        schema_to_xmlschema database_to_xml database_to_xml_and_xmlschema database_to_xmlschema ts_stat
        ts_rewrite currtid2 connectby xpath_table pgrowlocks bt_index_check bt_index_parent_check verify_heapam
        get_raw_page hash_metapage_info hash_bitmap_info bt_metap bt_page_items bt_page_stats fsm_page_contents page_header page_checksum
        tuple_data_split amvalidate plpgsql_validator regclass regclassin regcollationin regconfigin regdictionaryin regnamespacein regoperatorin regoperin regprocedurein regprocin regrolein regtypein row_security_active obj_description col_description shobj_description current_query
        openrowset opendatasource mroonga_command`),
    ),
    prefixes: [
      // MariaDB's Spider engine: spider_direct_sql runs SQL text on a remote server, spider_copy_tables writes.
      'spider_',
      'dblink',
      'crosstab',
      'pgstat',
      'to_reg',
      'has_',
      'postgres_fdw_',
      'internal_',
      'can_access_',
      'get_dd_',
      'fmgr_',
    ],
  },
  {
    does: 'reads or writes files, large objects or server keys, or runs programs',
    names: new Set(
      list(`
        loread lowrite load_file des_encrypt des_decrypt xslt_process sys_exec sys_eval load_extension readfile
        writefile edit fts3_tokenizer`),
    ),
    prefixes: ['lo_', 'keyring_', 'audit_log_'],
  },
  {
    does: 'sleeps, waits or takes or reads locks',
    names: new Set(
      list(`
        sleep benchmark get_lock release_lock release_all_locks is_free_lock is_used_lock master_pos_wait
        source_pos_wait master_gtid_wait wait_for_executed_gtid_set wait_until_sql_thread_after_gtids
        service_get_read_locks service_get_write_locks service_release_locks`),
    ),
    prefixes: ['wsrep_'],
  },
  {
    does: 'reads or advances a sequence',
    names: new Set(list('nextval setval currval lastval')),
    prefixes: [],
  },
  {
    does: 'writes to an index, a table page or the server',
    names: new Set(
      list(`
        brin_summarize_new_values brin_summarize_range brin_desummarize_range
        gin_clean_pending_list heap_force_kill heap_force_freeze autoprewarm_dump_now autoprewarm_start_worker
        set_firewall_mode`),
    ),
    prefixes: [
      'binary_upgrade_',
      'brin_',
      'gin_',
      'gist_page_',
      'hash_page_',
      'heap_page_',
      'group_replication_',
      'asynchronous_connection_failover_',
      'mysql_firewall_',
      'version_tokens_',
    ],
  },
  {
    does: 'reads or changes settings, session or replication state',
    names: new Set(
      list(`
        set_config current_setting setseed set_limit show_limit last_insert_id binlog_gtid_pos`),
    ),
    prefixes: ['txid_'],
  },
  {
    // pg_sleep, pg_advisory_lock, pg_read_file, pg_terminate_backend, …: none is a plain computation.
    does: 'is a server administration function',
    names: new Set(),
    prefixes: ['pg_', 'xp_', 'sp_'],
  },
];

/** Why a function may never be allowed, or undefined. */
export function neverAllowed(name: string): string | undefined {
  for (const family of FAMILIES)
    if (family.names.has(name) || family.prefixes.some((prefix) => name.startsWith(prefix)))
      return `${name} ${family.does}`;
  return undefined;
}
