module.exports = { displayName: 'segmenter', preset: '../../jest.preset.js' };
