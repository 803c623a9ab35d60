module.exports = { displayName: 'matching-eval', preset: '../../jest.preset.js' };
