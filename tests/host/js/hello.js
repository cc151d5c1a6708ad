// The componentize-js hello handler of `shoal serve`'s tests and benchmarks:
// the fetch-event API of StarlingMonkey (wasi:http/incoming-handler@0.2.10).
addEventListener('fetch', (event) => event.respondWith(handle(event.request)));

async function handle(req) {
  const url = new URL(req.url);
  if (url.pathname === '/') return new Response('hello from JS\n', { headers: { 'content-type': 'text/plain' } });
  if (url.pathname === '/echo') {
    const body = new Uint8Array(await req.arrayBuffer());
    return new Response(body, { headers: { 'x-method': req.method, 'x-length': String(body.length) } });
  }
  if (url.pathname === '/headers') {
    const h = new Headers();
    for (const [k, v] of req.headers) if (k.startsWith('x-')) h.set(k, v);
    return new Response('headers\n', { headers: h });
  }
  return new Response('not found\n', { status: 404 });
}
