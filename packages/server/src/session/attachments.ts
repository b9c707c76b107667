/**
 * A session's attachments, by channel name. Adding one subscribes it to the node's local channel;
 * removing one unsubscribes it. The session owns this object; attach, detach and reauth change the
 * attachments only through it.
 *
 * Most connections are attached to one channel (bench S3: 10,000 idle connections, each on its
 * own): that one is held in a field, and a Map (~180 bytes with its table) is made only for a
 * second channel and dropped again when one is left.
 */
import type { LocalChannels } from '../channels/local-channels.js';
import { Attachment, type AttachmentOwner } from './attachment.js';

const NONE: ReadonlyMap<string, Attachment> = new Map();

export class Attachments {
  /** The attachment while there is exactly one; null with none or several. */
  private one: Attachment | null = null;
  /** Every attachment by name while there are several; null with none or one. */
  private byName: Map<string, Attachment> | null = null;

  constructor(
    private readonly owner: AttachmentOwner,
    private readonly channels: LocalChannels,
  ) {}

  get(name: string): Attachment | undefined {
    const one = this.one;
    if (one !== null) return one.name === name ? one : undefined;
    return this.byName?.get(name);
  }

  get size(): number {
    return this.one !== null ? 1 : (this.byName?.size ?? 0);
  }

  values(): IterableIterator<Attachment> {
    const one = this.one;
    if (one !== null) return [one].values();
    return (this.byName ?? NONE).values();
  }

  /** Whether `att` is still the attachment of its channel (not detached or re-attached meanwhile). */
  isCurrent(att: Attachment): boolean {
    return this.get(att.name) === att;
  }

  /**
   * A new attachment to channel `name` (`base` for a qualified name) with `modes`, subscribed to the local channel (replace any
   * previous one first); `ready` resolves once this node receives the channel's events (null: it already does).
   */
  add(name: string, modes: number, base: string = name): { attachment: Attachment; ready: Promise<void> | null } {
    const channel = this.channels.open(this.owner.appId, base);
    const attachment = new Attachment(this.owner, channel, name, modes);
    const ready = this.channels.subscribe(channel, attachment);
    this.put(attachment);
    return { attachment, ready };
  }

  /** Ends one attachment (detach, failed attach, capability withdrawn by a reauth). */
  remove(att: Attachment): void {
    this.forget(att.name);
    this.channels.remove(att.channel, att);
  }

  /** Drops every attachment (transport gone, connection closed); the client re-attaches on resume. */
  clear(): void {
    const all = [...this.values()];
    this.one = this.byName = null;
    for (const att of all) this.channels.remove(att.channel, att);
  }

  /** Records `att` under its name, replacing any attachment of that name. */
  private put(att: Attachment): void {
    const one = this.one;
    if (this.byName === null && (one === null || one.name === att.name)) {
      this.one = att;
      return;
    }
    if (one !== null) {
      this.byName = new Map([[one.name, one]]);
      this.one = null;
    }
    this.byName!.set(att.name, att);
  }

  private forget(name: string): void {
    const one = this.one;
    if (one !== null) {
      if (one.name === name) this.one = null;
      return;
    }
    const byName = this.byName;
    if (byName === null || !byName.delete(name)) return;
    if (byName.size > 1) return;
    // Back to the field: one left (or none).
    const [last] = byName.values();
    this.byName = null;
    this.one = last ?? null;
  }
}
