module.exports = { displayName: 'identity-resolver', preset: '../../jest.preset.js' };
