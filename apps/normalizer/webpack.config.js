module.exports = require('../../webpack.service.cjs')('normalizer');
