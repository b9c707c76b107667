/** Text checks shared by the codecs and the server's frame writers. */

const ASCII = /^[\x00-\x7f]*$/;

/**
 * Whether `text` is ASCII only: its UTF-8 and Latin-1 encodings are then one byte a char, so its
 * length is its byte length and either encoder writes it. A native regular expression: cheaper than a
 * JavaScript loop from a dozen chars on.
 */
export function isAscii(text: string): boolean {
  return ASCII.test(text);
}
