module.exports = { displayName: 'cleaning', preset: '../../jest.preset.js' };
