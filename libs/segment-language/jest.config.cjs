module.exports = { displayName: 'segment-language', preset: '../../jest.preset.js' };
