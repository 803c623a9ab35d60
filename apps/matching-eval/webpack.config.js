module.exports = require('../../webpack.service.cjs')('matching-eval');
