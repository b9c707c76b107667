/**
 * A session's attachments, by channel name. Adding one subscribes it to the node's local channel;
 * removing one unsubscribes it. The session owns this object; attach, detach and reauth change the
 * attachments only through it.
 */
import type { LocalChannels } from '../channels/local-channels.js';
import { Attachment, type AttachmentOwner } from './attachment.js';

export class Attachments {
  private readonly byName = new Map<string, Attachment>();

  constructor(
    private readonly owner: AttachmentOwner,
    private readonly channels: LocalChannels,
    private readonly appId: string,
  ) {}

  get(name: string): Attachment | undefined {
    return this.byName.get(name);
  }

  get size(): number {
    return this.byName.size;
  }

  values(): IterableIterator<Attachment> {
    return this.byName.values();
  }

  /** Whether `att` is still the attachment of its channel (not detached or re-attached meanwhile). */
  isCurrent(att: Attachment): boolean {
    return this.byName.get(att.name) === att;
  }

  /**
   * A new attachment to channel `name` (`base` for a qualified name) with `modes`, subscribed to the local channel (replace any
   * previous one first); `ready` resolves once this node receives the channel's events (null: it already does).
   */
  add(name: string, modes: number, base: string = name): { attachment: Attachment; ready: Promise<void> | null } {
    const channel = this.channels.open(this.appId, base);
    const attachment = new Attachment(this.owner, channel, name, modes);
    const ready = this.channels.subscribe(channel, attachment);
    this.byName.set(name, attachment);
    return { attachment, ready };
  }

  /** Ends one attachment (detach, failed attach, capability withdrawn by a reauth). */
  remove(att: Attachment): void {
    this.byName.delete(att.name);
    this.channels.remove(att.channel, att);
  }

  /** Drops every attachment (transport gone, connection closed); the client re-attaches on resume. */
  clear(): void {
    for (const att of this.byName.values()) this.channels.remove(att.channel, att);
    this.byName.clear();
  }
}
