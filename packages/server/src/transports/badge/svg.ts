/**
 * The occupancy badge as an image: a small SVG that says how many members are present. Only a
 * number is drawn (nothing from the request), so nothing untrusted reaches the markup.
 */
export function badgeSvg(present: number): string {
  const label = `${present} present`;
  const width = 64 + label.length * 7;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="24" viewBox="0 0 ${width} 24">` +
    `<rect width="${width}" height="24" rx="4" fill="#1f2937"/>` +
    `<rect x="52" width="${width - 52}" height="24" rx="4" fill="${present > 0 ? '#16a34a' : '#6b7280'}"/>` +
    `<text x="8" y="16" font-family="DejaVu Sans,Verdana,sans-serif" font-size="12" fill="#fff">live</text>` +
    `<text x="60" y="16" font-family="DejaVu Sans,Verdana,sans-serif" font-size="12" fill="#fff">${label}</text>` +
    `</svg>`
  );
}
