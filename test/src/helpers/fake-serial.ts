/** A well-formed message serial that no server ever issued (for "unknown serial" refusals). */
export const FAKE_SERIAL = 'aaaaaaaa-0000000zzzz:000';
