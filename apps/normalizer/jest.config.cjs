module.exports = { displayName: 'normalizer', preset: '../../jest.preset.js' };
