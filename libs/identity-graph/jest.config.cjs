module.exports = { displayName: 'identity-graph', preset: '../../jest.preset.js' };
