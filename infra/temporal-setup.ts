import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { msToTs } from '@temporalio/common/lib/time';
import { ALL_SEARCH_ATTRIBUTES } from '../domain/search-attributes';

const INDEXED_TYPE: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  KEYWORD: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  TEXT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  INT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  DOUBLE: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  BOOL: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  DATETIME: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KEYWORD_LIST: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/** Registers the project's search attributes that the namespace lacks (idempotent). */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = ALL_SEARCH_ATTRIBUTES.filter((k) => !known.has(k.name));
  if (missing.length === 0) return [];
  const searchAttributes: Record<string, temporal.api.enums.v1.IndexedValueType> = {};
  for (const k of missing) {
    const t = INDEXED_TYPE[k.type];
    if (t === undefined) throw new Error(`unsupported search attribute type ${k.type}`);
    searchAttributes[k.name] = t;
  }
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  return missing.map((k) => k.name);
}

/** Raises the namespace retention so closed projects' histories stay readable for supervisors. */
export async function ensureRetention(
  connection: Connection,
  namespace: string,
  days: number,
): Promise<void> {
  const seconds = days * 24 * 3600;
  const ns = await connection.workflowService.describeNamespace({ namespace });
  const current = Number(ns.config?.workflowExecutionRetentionTtl?.seconds ?? 0);
  if (current >= seconds) return;
  await connection.workflowService.updateNamespace({
    namespace,
    config: { workflowExecutionRetentionTtl: msToTs(seconds * 1000) },
  });
}

/** Idempotent namespace preparation run by every process that boots against Temporal. */
export async function prepareNamespace(
  address: string,
  namespace: string,
  retentionDays: number,
): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await ensureSearchAttributes(connection, namespace);
    await ensureRetention(connection, namespace, retentionDays);
  } finally {
    await connection.close();
  }
}
