/** Saves text as a file through the browser's download (a Blob URL: nothing leaves the device). */
export function downloadText(
  name: string,
  text: string | Uint8Array<ArrayBuffer>,
  type = 'text/plain'
): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  // Revoke after the click has been handled, or Chromium may cancel the download.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
