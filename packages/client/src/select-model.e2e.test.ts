import { describeSelectModel } from './test/select-model-suite.ts';

describeSelectModel('process');
