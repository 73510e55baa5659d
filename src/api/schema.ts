// Builders for Kubernetes structural schemas whose TypeScript types are inferred from the
// same objects, so the CRD YAML and the types the controller uses cannot drift apart.
// Hand-written rather than TypeBox/zod: those emit `anyOf`/`patternProperties`, which
// structural CRD schemas reject, and none of them forces a description on every field.

export interface CelRule {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

/** The subset of OpenAPI v3 that CRD structural schemas accept and Ferry uses. */
export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'boolean';
  description?: string;
  format?: string;
  enum?: readonly string[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  minItems?: number;
  maxProperties?: number;
  items?: JSONSchemaProps;
  properties?: Record<string, JSONSchemaProps>;
  required?: string[];
  additionalProperties?: JSONSchemaProps;
  nullable?: boolean;
  'x-kubernetes-validations'?: CelRule[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
}

/** A schema node. `T` is the TypeScript type of a value it admits; `R` whether it is required. */
export interface Field<T, R extends boolean = false> {
  readonly schema: JSONSchemaProps;
  readonly required: R;
  /** Phantom member carrying the inferred type; never set at run time. */
  readonly __type?: T;
}

// biome-ignore lint/suspicious/noExplicitAny: variance-free constraint for inference
type AnyField = Field<any, boolean>;
export type TypeOf<F> = F extends Field<infer T, boolean> ? T : never;
type Props = Record<string, AnyField>;
type RequiredKeys<P extends Props> = { [K in keyof P]: P[K] extends Field<unknown, true> ? K : never }[keyof P];
type OptionalKeys<P extends Props> = Exclude<keyof P, RequiredKeys<P>>;
type Flatten<T> = { [K in keyof T]: T[K] };
export type ObjectOf<P extends Props> = Flatten<
  { -readonly [K in RequiredKeys<P>]: TypeOf<P[K]> } & { -readonly [K in OptionalKeys<P>]?: TypeOf<P[K]> }
>;

interface Common {
  validations?: CelRule[];
}

function field<T>(schema: JSONSchemaProps, opts: Common = {}): Field<T, false> {
  const withRules = opts.validations?.length ? { ...schema, 'x-kubernetes-validations': opts.validations } : schema;
  return { schema: withRules, required: false };
}

/** Marks a field as required in its parent object. */
export function required<T>(f: Field<T, boolean>): Field<T, true> {
  return { schema: f.schema, required: true };
}

export function string(
  description: string,
  opts: Common & { pattern?: string; format?: string; minLength?: number; maxLength?: number } = {},
): Field<string> {
  const { validations, ...rest } = opts;
  return field({ type: 'string', description, ...rest }, { validations });
}

export function enumOf<const V extends readonly string[]>(description: string, values: V): Field<V[number]> {
  return field({ type: 'string', description, enum: values });
}

export function integer(
  description: string,
  opts: { format?: 'int32' | 'int64'; minimum?: number; maximum?: number } = {},
): Field<number> {
  return field({ type: 'integer', description, ...opts });
}

export function boolean(description: string): Field<boolean> {
  return field({ type: 'boolean', description });
}

/** An RFC 3339 timestamp (metav1.Time). */
export function timestamp(description: string): Field<string> {
  return field({ type: 'string', format: 'date-time', description });
}

export function object<P extends Props>(
  description: string,
  properties: P,
  opts: Common & { maxProperties?: number } = {},
): Field<ObjectOf<P>> {
  const req = Object.keys(properties).filter((k) => properties[k]?.required);
  const schema: JSONSchemaProps = {
    type: 'object',
    description,
    properties: Object.fromEntries(Object.entries(properties).map(([k, f]) => [k, f.schema])),
  };
  if (req.length > 0) schema.required = req;
  if (opts.maxProperties !== undefined) schema.maxProperties = opts.maxProperties;
  return field(schema, opts);
}

/** A string → V map (`additionalProperties`), e.g. labels. */
export function mapOf<V>(description: string, values: Field<V, boolean>): Field<Record<string, V>> {
  return field({ type: 'object', description, additionalProperties: values.schema });
}

export function arrayOf<T>(
  description: string,
  items: Field<T, boolean>,
  opts: Common & { maxItems?: number; minItems?: number; listMapKeys?: string[] } = {},
): Field<T[]> {
  const schema: JSONSchemaProps = { type: 'array', description, items: items.schema };
  if (opts.maxItems !== undefined) schema.maxItems = opts.maxItems;
  if (opts.minItems !== undefined) schema.minItems = opts.minItems;
  if (opts.listMapKeys) {
    schema['x-kubernetes-list-type'] = 'map';
    schema['x-kubernetes-list-map-keys'] = opts.listMapKeys;
  }
  return field(schema, opts);
}
