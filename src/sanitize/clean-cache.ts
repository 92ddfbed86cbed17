/**
 * Short strings a redactor found clean, with their character classes: enum values, statuses,
 * field names and fixed prompts recur across values, and a hit skips the whole scan. Strings
 * with digits are not kept: ids, times and amounts rarely repeat, and admitting them would only
 * churn the cache.
 *
 * Only strings that came back unchanged are kept, so no detected secret is retained. The cache is
 * bounded by entries and by characters held, and starts over when full (entries that stay hot
 * come back at once). It is used only when every detector is a pure function of the text: a
 * user-supplied `validate` may decide differently over time, so such policies get no cache.
 */
import { DIGIT } from './text-features.js';

/**
 * Longest string worth remembering: a fixed note or instruction in tool parameters recurs
 * verbatim up to a few hundred characters; chat turns and documents rarely do.
 */
const MAX_LENGTH = 256;
const MAX_ENTRIES = 4096;
const MAX_CHARACTERS = 256 * 1024;

export class CleanStringCache {
  private readonly flagsByText = new Map<string, number>();
  private characters = 0;

  /** The character-class flags recorded for `text` if it is known clean, else undefined. */
  get(text: string): number | undefined {
    return text.length <= MAX_LENGTH ? this.flagsByText.get(text) : undefined;
  }

  remember(text: string, flags: number): void {
    if (text.length > MAX_LENGTH || (flags & DIGIT) !== 0) return;
    if (this.flagsByText.size >= MAX_ENTRIES || this.characters + text.length > MAX_CHARACTERS) {
      this.flagsByText.clear();
      this.characters = 0;
    }
    this.flagsByText.set(text, flags);
    this.characters += text.length;
  }
}
