module.exports = { displayName: 'predictions', preset: '../../jest.preset.js' };
