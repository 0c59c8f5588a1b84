import type { CatalogSnapshot } from "../../catalog/model.js";
import type { MappingConfig } from "../../config/schema.js";
import type { Dialect } from "../grants.js";
import { foldIdentifier, schemaMapper } from "../map.js";
import type { WarehouseNameOf } from "./catalog-index.js";

/** Glue (database, table) -> the warehouse's (schema, table), as the mapper names them. */
export function warehouseNames(mapping: MappingConfig, dialect: Dialect): WarehouseNameOf {
  const schemaOf = schemaMapper(mapping);
  return (database, table) => {
    const mapped = schemaOf(database);
    const schema = mapped === null ? null : foldIdentifier(mapped, dialect);
    const name = foldIdentifier(table, dialect);
    return schema === null || name === null ? null : { schema, table: name };
  };
}

/** The schemas the mapping manages: one per included catalog database. */
export function managedSchemas(snapshot: CatalogSnapshot, mapping: MappingConfig, dialect: Dialect, external?: ReadonlySet<string>): Set<string> {
  const schemaOf = schemaMapper(mapping);
  const schemas = new Set<string>();
  for (const database of snapshot.databases) {
    const mapped = schemaOf(database.name);
    const schema = mapped === null ? null : foldIdentifier(mapped, dialect);
    if (schema !== null && external?.has(schema) !== true) schemas.add(schema);
  }
  return schemas;
}
