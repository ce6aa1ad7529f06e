import type { FormFields } from './types.ts';

/** A submitted field under its lowercased name: "The post parameters are case insensitive." */
export interface IndexedField {
  /** The name as the form sent it (first spelling seen). */
  name: string;
  value: string;
}

/**
 * Fields by lowercased name. Two spellings of one name (`Key` and `key`) are one field whose
 * values are joined with commas, as S3's form guide says of repeated fields ("the values must
 * be separated by commas"), so neither spelling can slip past a condition on the other.
 */
export function indexFields(fields: FormFields): Map<string, IndexedField> {
  const index = new Map<string, IndexedField>();
  for (const [name, value] of Object.entries(fields)) {
    const lower = name.toLowerCase();
    const seen = index.get(lower);
    index.set(lower, seen ? { name: seen.name, value: `${seen.value},${value}` } : { name, value });
  }
  return index;
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: S3's form variable, literally.
const FILENAME = '${filename}';

/**
 * "The variable ${filename} is automatically replaced with the name of the file provided by the
 * user and is recognized by all form fields. If the browser or client provides a full or
 * partial path to the file, only the text following the last slash (/) or backslash (\) is
 * used." and "All variables within the form are expanded prior to validating the POST policy."
 * With no `filename` parameter at all S3 was recorded keeping `${filename}` literally, so an
 * undefined filename leaves the fields as they are.
 */
export function expandFilename(fields: FormFields, filename: string | undefined): FormFields {
  if (filename === undefined) return fields;
  const base = filename.slice(Math.max(filename.lastIndexOf('/'), filename.lastIndexOf('\\')) + 1);
  // A function replacer, so a file named `$&.jpg` or `$'` is inserted as written; fromEntries
  // keeps a field named `__proto__` as a field (an assignment would drop it unchecked).
  return Object.fromEntries(
    Object.entries(fields).map(([name, value]) => [name, value.replaceAll(FILENAME, () => base)]),
  );
}
