module.exports = { displayName: 'safe-regex', preset: '../../jest.preset.js' };
