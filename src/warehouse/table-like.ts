/**
 * CREATE TABLE ... (LIKE parent): the new table's columns, read from the parent.
 *
 * The new table takes the parent's column names, declared types and NOT NULL; its column
 * defaults only with INCLUDING DEFAULTS. Identity columns become plain columns, as a new
 * table must not share the parent's sequence. As in Redshift, it takes the parent's
 * distribution style, sort key and column encodings (unless the statement declares its own),
 * and not its PRIMARY KEY, UNIQUE or FOREIGN KEY constraints.
 *
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_TABLE_NEW.html
 */
import { SqlError } from './index.ts';
import { SQLSTATE } from './errors.ts';
import { findTable, readDesign, type Query } from './catalog.ts';
import type { ColumnDecl, CreateTablePlan } from './dialect.ts';

/** The plan with its columns filled in from the LIKE parent (unchanged without LIKE). */
export async function resolveLike(
  q: Query,
  plan: CreateTablePlan,
  searchPath: readonly string[],
): Promise<CreateTablePlan> {
  if (!plan.like) return plan;
  const parent = await findTable(q, plan.like.table, searchPath);
  if (!parent)
    throw new SqlError(
      `relation "${plan.like.table.schema ? `${plan.like.table.schema}.` : ''}${plan.like.table.name}" does not exist`,
      SQLSTATE.undefinedTable,
    );
  const includeDefaults = plan.like.includingDefaults;
  const parentDesign = parent.catalog === 'dev' ? await readDesign(q, parent.schema, parent.name) : undefined;
  const columns: ColumnDecl[] = parent.columns.map((col) => ({
    name: col.name,
    type: col.type,
    notNull: col.notNull,
    ...(includeDefaults && !col.identity && col.defaultSql !== undefined
      ? { defaultSql: col.defaultSql }
      : {}),
    ...(parentDesign?.encodings.has(col.name)
      ? { encoding: parentDesign.encodings.get(col.name) as string }
      : {}),
  }));
  const own = plan.design;
  const inherited = parentDesign?.design ?? {};
  const dist = own.diststyle !== undefined ? own : inherited;
  const sortkey = own.sortkey ?? inherited.sortkey;
  const design = {
    ...(dist.diststyle !== undefined ? { diststyle: dist.diststyle } : {}),
    ...(dist.distkey !== undefined ? { distkey: dist.distkey } : {}),
    ...(sortkey ? { sortkey } : {}),
  };
  return { ...plan, columns, design };
}
