module.exports = { displayName: 'collector', preset: '../../jest.preset.js' };
