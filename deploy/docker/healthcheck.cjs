// Container health check (used by the Dockerfile HEALTHCHECK and docker-compose.yml).
// Slim images have no curl, so this uses Node's http module. Exit 0 = healthy.
// Port: $PORT, else the service's default port (from $CDP_SERVICE, set at image build time).
'use strict';
const http = require('node:http');

const DEFAULT_PORTS = {
  collector: 3001,
  normalizer: 3002,
  'identity-resolver': 3003,
  'profile-store': 3004,
  segmenter: 3005,
};
const port = Number(process.env.PORT) || DEFAULT_PORTS[process.env.CDP_SERVICE] || 3000;
const path = process.argv[2] || '/health/live';

const req = http.get({ host: '127.0.0.1', port, path, timeout: 4000 }, (res) => {
  res.resume();
  process.exit(res.statusCode >= 200 && res.statusCode < 300 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', (err) => {
  console.error(`healthcheck ${path} on port ${port}: ${err.message}`);
  process.exit(1);
});
