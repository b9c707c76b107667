import { AblyError, Err } from '@encke/protocol';

/**
 * Channel names (Ably docs, channels): not empty, no newlines, not starting with `:` (no namespace
 * without a name) or `[` (qualified and meta channels are not supported by this server yet).
 */
export function validateChannelName(name: string, maxLength: number): void {
  let problem: string | undefined;
  if (name.length === 0) problem = 'must not be empty';
  else if (name.length > maxLength) problem = `must be at most ${maxLength} characters`;
  else if (name.startsWith(':')) problem = 'must not start with ":"';
  else if (name.startsWith('[')) problem = 'qualified channel names ("[...]name") are not supported';
  else if (/[\r\n\0]/.test(name)) problem = 'must not contain newlines or NUL';
  if (problem)
    throw new AblyError(
      Err.invalidChannelName,
      `Invalid channel name ${JSON.stringify(name.slice(0, 100))}: ${problem}`,
    );
}
