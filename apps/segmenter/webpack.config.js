module.exports = require('../../webpack.service.cjs')('segmenter');
