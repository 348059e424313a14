import { describe, expect, it } from 'vitest';
import { plainName, reviewNotice, type NoticeRequest } from '../../src/lib/state/review-notice';

const request = (over: Partial<NoticeRequest> = {}): NoticeRequest => ({
  id: '6f1c2d3e-0000-4000-8000-000000000001',
  name: 'hello',
  fileName: 'hello.ncb',
  version: '1.0.0',
  ...over
});

describe('reviewNotice', () => {
  it('says nothing when nothing is pending', () => {
    expect(reviewNotice([])).toBeNull();
  });

  it('names one request and links to its Review page', () => {
    expect(reviewNotice([request()])).toEqual({
      title: 'A request needs review',
      body: 'hello 1.0.0 is waiting for your decision.',
      url: '/review?id=6f1c2d3e-0000-4000-8000-000000000001'
    });
  });

  it('sums several up in one notice that links to the Inbox', () => {
    const notice = reviewNotice([
      request({ name: 'a' }),
      request({ name: 'b', version: null }),
      request({ name: null, fileName: 'c.wasm', version: null }),
      request({ name: 'd' }),
      request({ name: 'e' })
    ]);
    expect(notice).toEqual({
      title: '5 requests need review',
      body: 'a 1.0.0, b, c.wasm and 2 more.',
      url: '/inbox'
    });
  });

  it('keeps text from the bundle out of the title, whatever it holds', () => {
    const notice = reviewNotice([request({ name: '<b>x</b>' }), request({ name: 'y' })]);
    expect(notice?.title).toBe('2 requests need review');
    expect(notice?.body).toBe('<b>x</b> 1.0.0, y 1.0.0.');
  });

  it('escapes the id in the link', () => {
    expect(reviewNotice([request({ id: 'a&b=/c' })])?.url).toBe('/review?id=a%26b%3D%2Fc');
  });
});

describe('plainName', () => {
  it('drops control and direction-override characters, which could disguise a name', () => {
    expect(plainName(request({ name: 'evil\u202Egnp.exe', version: null }))).toBe('evilgnp.exe');
    expect(plainName(request({ name: 'two\nlines\u0000', version: null }))).toBe('twolines');
    // And the invisible ones: zero-width space, word joiner, a tag character; joiners stay.
    expect(plainName(request({ name: 'Ac\u200bme\u2060\u{e0041}', version: null }))).toBe('Acme');
    expect(plainName(request({ name: 'a\u200db', version: null }))).toBe('a\u200db');
  });

  it('shortens a long name, never splitting a character', () => {
    const name = plainName(request({ name: '😀'.repeat(100), version: null }));
    expect([...name]).toHaveLength(60);
    expect(name.endsWith('😀…')).toBe(true);
  });

  it('says "unnamed" rather than showing nothing', () => {
    expect(plainName(request({ name: '\u202E', version: null }))).toBe('unnamed');
  });
});
