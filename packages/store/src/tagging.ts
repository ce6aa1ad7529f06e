/**
 * Object tag sets ("Categorizing your storage using tags"): "You can associate up to 10 tags with
 * an object. Tags that are associated with an object must have unique tag keys", "A tag key can
 * be up to 128 Unicode characters in length, and tag values can be up to 256".
 */
import { S3Error } from '@chute/errors';
import { doc, el, parseXml, text } from './xml.ts';

const MAX_TAGS = 10;
const MAX_KEY = 128;
const MAX_VALUE = 256;

/** `<Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging>` → [key, value] pairs. */
export function parseTagging(xml: string): [string, string][] {
  const root = parseXml(xml, 'Tagging');
  const set = root['TagSet'];
  if (set === undefined || (set !== '' && (typeof set !== 'object' || set === null))) {
    throw new S3Error('MalformedXML');
  }
  const raw = set === '' ? [] : ((set as Record<string, unknown>)['Tag'] ?? []);
  if (!Array.isArray(raw)) throw new S3Error('MalformedXML');
  const pairs: [string, string][] = [];
  for (const tag of raw) {
    const key = text(tag, 'Key');
    if (key === undefined) throw new S3Error('MalformedXML');
    pairs.push([key, text(tag, 'Value') ?? '']);
  }
  return checkTags(pairs);
}

/** `x-amz-tagging: k1=v1&k2=v2` ("The tag-set must be encoded as URL Query parameters"). */
export function parseTaggingHeader(value: string): [string, string][] {
  return checkTags([...new URLSearchParams(value)]);
}

function checkTags(pairs: [string, string][]): [string, string][] {
  const tags: [string, string][] = [];
  for (const [key, value] of pairs) {
    if ([...key].length < 1 || [...key].length > MAX_KEY) throw new S3Error('InvalidTag');
    if ([...value].length > MAX_VALUE) {
      throw new S3Error('InvalidTag', 'The TagValue you have provided is invalid');
    }
    if (tags.some(([k]) => k === key)) {
      throw new S3Error('InvalidTag', 'Cannot provide multiple Tags with the same key');
    }
    tags.push([key, value]);
  }
  if (tags.length > MAX_TAGS) throw new S3Error('InvalidTag', 'Object tags cannot be greater than 10');
  return tags;
}

export function taggingXml(tags: readonly [string, string][]): string {
  return doc('Tagging', [
    el(
      'TagSet',
      tags.map(([k, v]) => el('Tag', [el('Key', k), el('Value', v)])),
    ),
  ]);
}
