/**
 * A session's attachments, by channel name. Adding one subscribes it to the node's local channel;
 * removing one unsubscribes it. The session owns them; attach, detach and reauth change them only
 * through this view.
 *
 * Most connections are attached to one channel (bench S3: 10,000 idle connections, each on its
 * own): that one is kept in a field of the session itself, and a Map (~180 bytes with its table)
 * is made only for a second channel and dropped again when one is left. This object is a view over
 * that field, made where it is used (`Session.attachments`): it holds nothing of its own, so a
 * connection keeps no object for its attachments (56 bytes each before).
 */
import type { LocalChannels } from '../channels/local-channels.js';
import { Attachment, type AttachmentOwner } from './attachment.js';

const NONE: ReadonlyMap<string, Attachment> = new Map();

/** A connection's attachments as it keeps them: none, the one, or several by name. */
export type AttachmentSlot = Attachment | Map<string, Attachment> | null;

/** What keeps the attachments (the session): its one field for them. */
export interface AttachmentHolder extends AttachmentOwner {
  attached: AttachmentSlot;
}

export class Attachments {
  constructor(
    private readonly holder: AttachmentHolder,
    private readonly channels: LocalChannels,
  ) {}

  get(name: string): Attachment | undefined {
    const held = this.holder.attached;
    if (held === null) return undefined;
    if (held instanceof Attachment) return held.name === name ? held : undefined;
    return held.get(name);
  }

  get size(): number {
    const held = this.holder.attached;
    return held === null ? 0 : held instanceof Attachment ? 1 : held.size;
  }

  values(): IterableIterator<Attachment> {
    const held = this.holder.attached;
    if (held instanceof Attachment) return [held].values();
    return (held ?? NONE).values();
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
    const channel = this.channels.open(this.holder.appId, base);
    const attachment = new Attachment(this.holder, channel, name, modes);
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
    if (this.holder.attached === null) return;
    const all = [...this.values()];
    this.holder.attached = null;
    for (const att of all) this.channels.remove(att.channel, att);
  }

  /** Records `att` under its name, replacing any attachment of that name. */
  private put(att: Attachment): void {
    const held = this.holder.attached;
    if (held === null || (held instanceof Attachment && held.name === att.name)) {
      this.holder.attached = att;
      return;
    }
    if (held instanceof Attachment)
      this.holder.attached = new Map([
        [held.name, held],
        [att.name, att],
      ]);
    else held.set(att.name, att);
  }

  private forget(name: string): void {
    const held = this.holder.attached;
    if (held === null) return;
    if (held instanceof Attachment) {
      if (held.name === name) this.holder.attached = null;
      return;
    }
    if (!held.delete(name) || held.size > 1) return;
    // Back to the field: one left (or none).
    const [last] = held.values();
    this.holder.attached = last ?? null;
  }
}
