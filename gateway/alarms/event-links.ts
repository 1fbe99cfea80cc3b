/**
 * Signed links in the events the web backend receives: a `clip.ready` event is sent with `url`
 * (the MP4) and `posterUrl`, signed when it is POSTed and working for the web backend's link
 * lifetime (24 h by default), and `urlExpiresAt` (ms). Other events go as they are.
 */
import type { ClipLinkSigner } from './clip-links.ts';
import { ClipIdParam } from './schemas.ts';

export function withClipLinks(signer: ClipLinkSigner) {
  return <E extends Record<string, unknown>>(event: E, now = Date.now()): E => {
    if (event.type !== 'clip.ready' || !ClipIdParam.shape.id.safeParse(event.clipId).success) return event;
    const links = signer.links(String(event.clipId), { forEvent: true, now });
    return { ...event, url: links.video, posterUrl: links.poster, urlExpiresAt: links.expiresAt };
  };
}
